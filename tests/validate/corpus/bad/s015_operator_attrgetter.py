# expect: S015 line 4
import operator

get = operator.attrgetter('x')
