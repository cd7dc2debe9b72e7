# expect: S015 line 4
import gzip

gzip.GzipFile('/etc/passwd')
