# expect: S001 line 2
from socket import create_connection
