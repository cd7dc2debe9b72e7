# expect: S015 line 4
import io

with io.open("/etc/passwd") as handle:
    secret = handle.read()
