# expect: S015 line 2
from io import FileIO as F
