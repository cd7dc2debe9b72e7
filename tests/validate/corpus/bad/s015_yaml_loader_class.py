# expect: S015 line 2
from yaml import UnsafeLoader
