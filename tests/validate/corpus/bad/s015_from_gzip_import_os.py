# expect: S015 line 2
from gzip import os
