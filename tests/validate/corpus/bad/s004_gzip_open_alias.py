# expect: S015 line 2; S004 line 4
from gzip import open as gopen

fh = gopen('a.gz')
