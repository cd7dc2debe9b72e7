# expect: S004 line 4
import gzip

fh = gzip.open('a.gz')
