# expect: S015 line 4
import json

scan = json.decoder.scanstring
