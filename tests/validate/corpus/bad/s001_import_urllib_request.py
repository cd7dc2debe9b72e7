# expect: S001 line 3
import urllib.parse
import urllib.request
