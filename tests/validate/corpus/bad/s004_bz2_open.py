# expect: S004 line 4
import bz2

bz2.open('/etc/passwd')
