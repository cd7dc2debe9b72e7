# expect: S015 line 2
from uuid import os
