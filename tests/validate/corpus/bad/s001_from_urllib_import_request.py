# expect: S001 line 3
from urllib import parse
from urllib import request
