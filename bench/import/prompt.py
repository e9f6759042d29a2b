# Time to the first prompt of an interactive pwsh (PSReadLine on a pseudo-terminal) whose startup imports a module, as a
# profile does: pwsh -NoLogo -NoProfile -NoExit -Command "Import-Module <module>", from the start of the process until
# PSReadLine has drawn the prompt. Then, for IncidentOps, the time from typing a first command (`Get-IncidentOpsService
# -Path <config> | Select-Object -First 1`) after IDLE seconds at the prompt until its table is on the screen.
# Modules are interleaved per run; prints medians. Run by bench/import/pwsh.sh with PROMPT=1.
# Usage: python3 prompt.py PWSH RUNS IDLE CONFIG NAME=MODULE_PATH [NAME=MODULE_PATH ...]
import fcntl, os, pty, re, select, statistics, struct, sys, termios, time

pwsh, runs, idle, config = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
modules = [a.split('=', 1) for a in sys.argv[5:]]

def session(module, first_command):
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ['TERM'] = 'xterm'
        os.execv(pwsh, [pwsh, '-NoLogo', '-NoProfile', '-NoExit', '-Command', f"Import-Module '{module}'"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 160, 0, 0))
    seen = ''
    def wait_for(pattern, limit=60):
        nonlocal seen
        end = time.perf_counter() + limit
        while time.perf_counter() < end:
            ready, _, _ = select.select([fd], [], [], 0.005)
            if ready:
                try:
                    chunk = os.read(fd, 65536).decode(errors='replace')
                except OSError:
                    return None
                if '\x1b[6n' in chunk:
                    os.write(fd, b'\x1b[5;1R')
                seen += chunk
                text = re.sub(r'\x1b\[[0-9;?]*[a-zA-Z]', '', seen).replace('\r', '')
                if re.search(pattern, text):
                    return time.perf_counter()
        return None
    prompt = wait_for(r'PS [^\n]*> ')
    first = None
    if prompt and first_command:
        end = time.perf_counter() + idle
        while time.perf_counter() < end:  # sit at the prompt, answering PSReadLine
            wait_for(r'(?!)', 0.05)
        typed = time.perf_counter()
        os.write(fd, f"Get-IncidentOpsService -Path '{config}' | Select-Object -First 1\r".encode())
        done = wait_for(r'\nService\s+Platform\s+Health\s+Target[^\n]*\n[- ]+\n[^\n]*production/\S+')
        first = (done - typed) * 1000 if done else None
        if not done and os.environ.get('PROMPT_DEBUG'):
            print(repr(re.sub(r'\x1b\[[0-9;?]*[a-zA-Z]', '', seen)[-800:]), file=sys.stderr)
    try:
        os.kill(pid, 9); os.waitpid(pid, 0)
    except OSError:
        pass
    os.close(fd)
    return ((prompt - start) * 1000 if prompt else None), first

results = {name: ([], []) for name, _ in modules}
for _ in range(runs):
    for name, module in modules:
        p, f = session(module, name.startswith('IncidentOps'))
        if p: results[name][0].append(p)
        if f: results[name][1].append(f)
for name, (prompts, firsts) in results.items():
    line = f"{name}: first prompt {statistics.median(prompts):7.1f} ms ({len(prompts)} runs)"
    if firsts:
        line += f"; first command after {idle:g} s idle {statistics.median(firsts):7.1f} ms"
    print(line)
