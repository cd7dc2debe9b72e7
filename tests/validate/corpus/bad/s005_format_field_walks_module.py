# expect: S005 line 4
import logging

leak = '{0.os.environ}'.format(logging)
