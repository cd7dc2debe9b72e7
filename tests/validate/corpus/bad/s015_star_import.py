# expect: S015 line 2
from json import *
