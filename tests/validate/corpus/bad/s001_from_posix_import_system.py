# expect: S001 line 2
from posix import system
