# expect: S004 line 4
import codecs

fh = codecs.open('x.txt')
