# expect: S015 line 4
import hashlib

hashlib._hashlib.new('md5')
