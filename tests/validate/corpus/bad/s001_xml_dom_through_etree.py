# expect: S001 line 4
import xml.etree.ElementTree

xml.dom.minidom.parse('/etc/passwd')
