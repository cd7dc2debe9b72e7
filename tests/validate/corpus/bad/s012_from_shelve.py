# expect: S012 line 2
from shelve import open as shelf
