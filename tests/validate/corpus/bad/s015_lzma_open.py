# expect: S015 line 2
from lzma import open as lopen
