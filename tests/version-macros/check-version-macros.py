#!/usr/bin/env python3
# Compiles uses.c under different CYMEM_VERSION_MIN_REQUIRED /
# CYMEM_VERSION_MAX_ALLOWED settings with -Werror, and checks which builds
# must succeed and which must fail, and with what message.
# Usage: check-version-macros.py SOURCE -- COMPILER... -- CFLAGS...
# SPDX-License-Identifier: MIT
import subprocess
import sys

args = sys.argv[1:]
source = args[0]
rest = args[2:]
sep = rest.index('--')
compiler, cflags = rest[:sep], rest[sep + 1:]

V10 = 'CYMEM_VERSION_1_0'
V12 = 'CYMEM_VERSION_1_2'
# (name, defines, expected: None = compiles, else a text the error must contain)
cases = [
    ('default range, 1.0 API', [], None),
    ('MIN=MAX=1.0, 1.0 API', [f'CYMEM_VERSION_MIN_REQUIRED={V10}',
                              f'CYMEM_VERSION_MAX_ALLOWED={V10}'], None),
    ('MAX=1.0 uses a 1.2 function', [f'CYMEM_VERSION_MAX_ALLOWED={V10}',
                                     'USE_ADDED_IN_1_2'], 'Not available before 1.2'),
    ('default MAX (the current 1.2) uses a 1.2 function', ['USE_ADDED_IN_1_2'], None),
    ('MAX=1.2 uses a 1.2 function', [f'CYMEM_VERSION_MIN_REQUIRED={V10}',
                                     f'CYMEM_VERSION_MAX_ALLOWED={V12}',
                                     'USE_ADDED_IN_1_2'], None),
    ('MIN=1.2 implies MAX=1.2', [f'CYMEM_VERSION_MIN_REQUIRED={V12}',
                                 'USE_ADDED_IN_1_2'], None),
    ('MIN=1.0 uses a function deprecated in 1.2',
     [f'CYMEM_VERSION_MIN_REQUIRED={V10}', f'CYMEM_VERSION_MAX_ALLOWED={V12}',
      'USE_DEPRECATED_IN_1_2'], None),
    ('MIN=1.2 uses a function deprecated in 1.2',
     [f'CYMEM_VERSION_MIN_REQUIRED={V12}', 'USE_DEPRECATED_IN_1_2'],
     'cymem_pool_alloc'),   # "... is deprecated: Use 'cymem_pool_alloc' instead"
    ('default MIN uses a function deprecated in 1.0', ['USE_DEPRECATED_IN_1_0'],
     'deprecated'),
    ('CYMEM_DISABLE_DEPRECATION_WARNINGS', ['USE_DEPRECATED_IN_1_0',
                                            'CYMEM_DISABLE_DEPRECATION_WARNINGS'], None),
    ('MAX < MIN is refused', [f'CYMEM_VERSION_MIN_REQUIRED={V12}',
                              f'CYMEM_VERSION_MAX_ALLOWED={V10}'],
     'CYMEM_VERSION_MAX_ALLOWED must be >= CYMEM_VERSION_MIN_REQUIRED'),
]

print(f'1..{len(cases)}')
failed = 0
for i, (name, defines, expected) in enumerate(cases, 1):
    cmd = compiler + cflags + ['-Wall', '-Werror', '-fsyntax-only'] + \
        ['-D' + d for d in defines] + [source]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if expected is None:
        ok = proc.returncode == 0
        why = 'expected to compile'
    else:
        ok = proc.returncode != 0 and expected in proc.stderr
        why = f'expected an error mentioning {expected!r}'
    print(f'{"ok" if ok else "not ok"} {i} - {name}')
    if not ok:
        failed += 1
        print(f'# {why}; exit status {proc.returncode}')
        print('# ' + ' '.join(cmd))
        for line in proc.stderr.splitlines():
            print('# ' + line)
sys.exit(1 if failed else 0)
