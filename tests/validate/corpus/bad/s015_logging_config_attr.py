# expect: S015 line 4
import logging

logging.config.dictConfig({})
