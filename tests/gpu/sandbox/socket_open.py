# Opens an IPv4 socket after Triton ran: the sandbox must kill it (violation socket(AF_INET)).
import socket
from common import triton_works
triton_works()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("1.1.1.1", 80))
print("escaped: connected")
