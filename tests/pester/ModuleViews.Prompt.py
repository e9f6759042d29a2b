# Drives a real interactive pwsh (PSReadLine on a pseudo-terminal, 120x50) for tests/pester/ModuleViews.Tests.ps1:
# imports the module, then either sits at the prompt for IDLE seconds or types the next line at once, and asks whether
# the module's views are in the session, without running an IncidentOps command. Prints "imported N" and "checked N".
# Usage: python3 ModuleViews.Prompt.py PWSH MODULE_PSD1 IDLE_SECONDS
import fcntl, os, pty, re, select, struct, sys, termios, time

pwsh, module, idle = sys.argv[1], sys.argv[2], float(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    os.environ['TERM'] = 'xterm'
    os.execv(pwsh, [pwsh, '-NoProfile', '-NoLogo'])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 120, 0, 0))
seen = []

def read(seconds, until=None):
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536).decode(errors='replace')
        except OSError:
            return
        if '\x1b[6n' in chunk:  # PSReadLine asks where the cursor is
            os.write(fd, b'\x1b[5;1R')
        seen.append(chunk)
        if until and re.search(until, clean()):
            return

def clean():
    return re.sub(r'\x1b\[[0-9;?]*[a-zA-Z]', '', ''.join(seen)).replace('\r', '\n')

def send(line):
    os.write(fd, line.encode() + b'\r')

count = "@([runspace]::DefaultRunspace.InitialSessionState.Formats | Where-Object FileName -like '*IncidentOps.format.ps1xml').Count"
read(60, until=r'PS [^\n]*> ')
send(f"Import-Module '{module}'; 'imported ' + {count}")
read(60, until=r'\nimported \d')
read(idle)
send(f"'checked ' + {count}")
read(30, until=r'\nchecked \d')
send('exit')
read(10)
try:
    os.kill(pid, 9)
except OSError:
    pass
for line in clean().split('\n'):
    m = re.match(r'^(imported|checked) (\d+)\s*$', line.strip())
    if m:
        print(m.group(1), m.group(2))
