# expect: S014 line 2
from pathlib import Path
