# expect: S001 line 2
import tokenize

tokenize.open('/etc/passwd')
