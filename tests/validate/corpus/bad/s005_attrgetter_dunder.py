# expect: S015 line 2; S005 line 5 col 23
from operator import attrgetter


grab = attrgetter("x", "__globals__")
