# expect: S001 line 2 col 5
from os import path
