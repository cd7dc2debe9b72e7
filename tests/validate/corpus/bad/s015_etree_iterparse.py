# expect: S015 line 2
from xml.etree.ElementTree import iterparse
