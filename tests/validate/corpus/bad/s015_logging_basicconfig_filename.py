# expect: S015 line 4
import logging

logging.basicConfig(filename='/tmp/x.log')
