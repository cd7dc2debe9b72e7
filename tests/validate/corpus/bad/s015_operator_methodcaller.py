# expect: S015 line 2
from operator import methodcaller
