# expect: S015 line 4
import logging

logging.traceback.sys.exit(0)
