# expect: S015 line 2
from pydantic import ImportString
