# expect: S014 line 2
import zipfile
