# expect: S004 line 4
import codecs

codecs.open('/etc/passwd')
