# expect: S001 line 3
import json
import sys
