# expect: S001 line 2
from unittest import mock

mock.patch('os.system')
