# expect: S015 line 2
from typing import get_type_hints
