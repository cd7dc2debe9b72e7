# expect: S015 line 2
from logging import os
