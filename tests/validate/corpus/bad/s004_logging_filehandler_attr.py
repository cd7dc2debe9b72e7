# expect: S004 line 4
import logging

logging.FileHandler('/tmp/exfil.log')
