# expect: S015 line 2
from defusedxml.ElementTree import parse
