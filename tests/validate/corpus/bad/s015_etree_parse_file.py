# expect: S015 line 4
import xml.etree.ElementTree as ET

ET.parse('/etc/passwd')
