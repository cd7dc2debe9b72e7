# expect: S015 line 4
import contextlib

contextlib.os.remove('/tmp/x')
