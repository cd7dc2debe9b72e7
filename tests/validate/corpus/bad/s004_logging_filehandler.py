# expect: S004 line 4
import logging

handler = logging.FileHandler('x.log')
