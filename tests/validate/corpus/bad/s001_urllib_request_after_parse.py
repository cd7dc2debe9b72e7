# expect: S001 line 4
import urllib.parse

body = urllib.request.urlopen('http://x')
