# Drives a real interactive pwsh for the Pester tests: PSReadLine on a pseudo-terminal of 160x50, as a person at a
# terminal has it (the console host, its Ctrl+C handling, PowerShell.OnIdle). Prints what the test asserts on.
#
#   python3 InteractivePwsh.py views PWSH MODULE_PSD1 IDLE_SECONDS
#       Imports the module, sits at the prompt for IDLE_SECONDS (or types on at once), then asks whether the module's
#       views are in the session without running an IncidentOps command. Prints "imported N" and "checked N".
#   python3 InteractivePwsh.py ctrlc PWSH MODULE_PSD1 COMMAND WAIT_SECONDS
#       Imports the module, runs COMMAND, presses Ctrl+C after WAIT_SECONDS, and waits up to 60 s for the prompt.
#       Prints "prompt back" or "no prompt", then "screen:" and the text the command left on the screen.
import fcntl, os, pty, re, select, struct, sys, termios, time


class Session:
    def __init__(self, pwsh):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ['TERM'] = 'xterm'
            os.execv(pwsh, [pwsh, '-NoProfile', '-NoLogo'])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 160, 0, 0))
        self.seen = ''

    def text(self, start=0):
        return re.sub(r'\x1b\[[0-9;?]*[a-zA-Z]', '', self.seen).replace('\r', '')[start:]

    def wait_for(self, pattern, seconds, start=0):
        """Reads the terminal for up to `seconds` (answering PSReadLine's cursor queries); True once `pattern` shows."""
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.02)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536).decode(errors='replace')
            except OSError:
                return False
            if '\x1b[6n' in chunk:  # PSReadLine asks where the cursor is
                os.write(self.fd, b'\x1b[5;1R')
            self.seen += chunk
            if pattern and re.search(pattern, self.text(start)):
                return True
        return False

    def send(self, keys):
        os.write(self.fd, keys.encode())

    def close(self):
        self.send('exit\r')
        self.wait_for(None, 3)
        try:
            os.kill(self.pid, 9)
        except OSError:
            pass


PROMPT = r'PS [^\n]*> '
LOADED = "@([runspace]::DefaultRunspace.InitialSessionState.Formats | Where-Object FileName -like '*IncidentOps.format.ps1xml').Count"

mode, pwsh, module = sys.argv[1], sys.argv[2], sys.argv[3]
s = Session(pwsh)
s.wait_for(PROMPT, 60)
s.send(f"Import-Module '{module}'; 'imported ' + {LOADED}\r")
s.wait_for(r'\nimported \d', 60)
if mode == 'views':
    s.wait_for(None, float(sys.argv[4]))
    s.send(f"'checked ' + {LOADED}\r")
    s.wait_for(r'\nchecked \d', 30)
    s.close()
    for line in s.text().split('\n'):
        m = re.match(r'^(imported|checked) (\d+)\s*$', line.strip())
        if m:
            print(m.group(1), m.group(2))
elif mode == 'ctrlc':
    command, wait = sys.argv[4], float(sys.argv[5])
    start = len(s.text())
    s.send(command + '\r')
    s.wait_for(None, wait)
    pressed = len(s.text())
    s.send('\x03')
    back = s.wait_for(PROMPT, 60, pressed)
    print('prompt back' if back else 'no prompt')
    print('screen:')
    print(s.text(start))
    s.close()
