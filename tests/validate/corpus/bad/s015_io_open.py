# expect: S015 line 4
import io

data = io.open('/etc/shadow').read()
