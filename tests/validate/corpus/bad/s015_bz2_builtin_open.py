# expect: S015 line 4
import bz2

bz2._builtin_open('/etc/passwd')
