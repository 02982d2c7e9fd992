#!/usr/bin/env python3
"""Open an HTML report in headless Chromium and say what the browser saw.

Drives Chromium through the DevTools protocol over --remote-debugging-pipe
(file descriptors 3 and 4, messages ended by a NUL byte), so it needs no
package beyond python3 and chromium.  It loads the page with the page's own
Content-Security-Policy in force and prints one JSON object on stdout:

  svgs        for every <svg>: its aria-label and rendered width and height
  charts      how many of them are charts (class "chart") with a non-zero box
  scripts     number of <script> elements in the DOM
  errors      console errors, uncaught exceptions and error log entries
              (a blocked script or resource shows up here as a CSP violation)
  dialogs     alert/confirm/prompt dialogs the page opened
  requests    URLs the page requested besides the document itself
  texts       for each --text NEEDLE: how often it occurs in the rendered text
  sections    ids of the <section> elements, in order
  width       document scroll width (to detect horizontal overflow)

--screenshot PATH writes a full-page PNG (1280 px wide); --clip SEL=PATH
writes a PNG of one element (for looking at a chart up close).

Usage: browser_check.py [--chromium BIN] [--screenshot PNG] [--clip SEL=PNG]...
                        [--text NEEDLE]... FILE.html
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CHECK_JS = r"""
(() => {
  const svgs = Array.from(document.querySelectorAll('svg')).map(s => {
    const r = s.getBoundingClientRect();
    return {label: s.getAttribute('aria-label'), cls: s.getAttribute('class'),
            width: r.width, height: r.height,
            shapes: s.querySelectorAll('rect,circle,line,path').length};
  });
  return JSON.stringify({
    svgs: svgs,
    charts: svgs.filter(s => (s.cls || '').split(' ').includes('chart') && s.width > 0 && s.height > 0).length,
    scripts: document.scripts.length,
    sections: Array.from(document.querySelectorAll('section[id]')).map(s => s.id),
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
    title: document.title,
    text: document.body ? document.body.innerText : ''
  });
})()
"""


class Browser:
    """A Chromium process spoken to over --remote-debugging-pipe."""

    def __init__(self, binary, profile, log):
        to_child_r, self.to_child_w = os.pipe()
        self.from_child_r, from_child_w = os.pipe()

        parent_ends = (self.to_child_w, self.from_child_r)

        def child_fds():
            # the browser reads commands from fd 3 and writes to fd 4
            a = os.dup(to_child_r)
            b = os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            for fd in (a, b, to_child_r, from_child_w) + parent_ends:
                if fd not in (3, 4):
                    os.close(fd)

        self.proc = subprocess.Popen(
            [binary, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--disable-extensions', '--hide-scrollbars', '--remote-debugging-pipe',
             '--user-data-dir=' + profile, 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            close_fds=False, preexec_fn=child_fds)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b''
        self.next_id = 0
        self.aux_id = 1000000
        self.events = []

    def _read_message(self, deadline):
        while b'\0' not in self.buf:
            if time.time() > deadline:
                raise TimeoutError('no answer from chromium')
            chunk = os.read(self.from_child_r, 65536)
            if not chunk:
                raise EOFError('chromium closed the pipe')
            self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        m = json.loads(msg)
        if m.get('method') == 'Page.javascriptDialogOpening':
            # an alert() would block the page: record it, then dismiss it
            self.aux_id += 1
            os.write(self.to_child_w, json.dumps({
                'id': self.aux_id, 'method': 'Page.handleJavaScriptDialog',
                'params': {'accept': True}, 'sessionId': m.get('sessionId')}).encode() + b'\0')
        return m

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self.to_child_w, json.dumps(msg).encode() + b'\0')
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get('id') == self.next_id:
                if 'error' in m:
                    raise RuntimeError('%s: %s' % (method, m['error']))
                return m.get('result', {})
            self.events.append(m)

    def wait_event(self, name, timeout=60):
        deadline = time.time() + timeout
        for i, m in enumerate(self.events):
            if m.get('method') == name:
                return self.events.pop(i)
        while True:
            m = self._read_message(deadline)
            if m.get('method') == name:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call('Browser.close', timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--chromium', default=shutil.which('chromium') or 'chromium')
    ap.add_argument('--screenshot')
    ap.add_argument('--clip', action='append', default=[])
    ap.add_argument('--text', action='append', default=[])
    ap.add_argument('file')
    args = ap.parse_args()

    url = 'file://' + os.path.abspath(args.file)
    profile = tempfile.mkdtemp(prefix='mnp-chromium-')
    log = open(os.path.join(profile, 'chromium.log'), 'w')
    b = Browser(args.chromium, profile, log)
    try:
        target = b.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        sess = b.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page', 'Runtime', 'Log', 'Network'):
            b.call(domain + '.enable', session=sess)
        b.call('Emulation.setDeviceMetricsOverride',
               {'width': 1280, 'height': 900, 'deviceScaleFactor': 1, 'mobile': False}, session=sess)
        b.call('Page.navigate', {'url': url}, session=sess)
        b.wait_event('Page.loadEventFired')
        res = b.call('Runtime.evaluate', {'expression': CHECK_JS, 'returnByValue': True}, session=sess)
        out = json.loads(res['result']['value'])
        text = out.pop('text')
        out['texts'] = {t: text.count(t) for t in args.text}

        if args.screenshot:
            shot = b.call('Page.captureScreenshot',
                          {'format': 'png', 'captureBeyondViewport': True,
                           'clip': {'x': 0, 'y': 0, 'width': 1280, 'height': out['height'], 'scale': 1}},
                          session=sess)
            with open(args.screenshot, 'wb') as f:
                f.write(base64.b64decode(shot['data']))
        for spec in args.clip:
            sel, path = spec.split('=', 1)
            r = b.call('Runtime.evaluate', {'expression':
                       'JSON.stringify((r => ({x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}))'
                       '(document.querySelector(%s).getBoundingClientRect()))' % json.dumps(sel),
                       'returnByValue': True}, session=sess)
            box = json.loads(r['result']['value'])
            shot = b.call('Page.captureScreenshot',
                          {'format': 'png', 'captureBeyondViewport': True,
                           'clip': {'x': box['x'], 'y': box['y'], 'width': box['w'], 'height': box['h'], 'scale': 1}},
                          session=sess)
            with open(path, 'wb') as f:
                f.write(base64.b64decode(shot['data']))

        # let late console messages arrive, then collect what the page did
        b.call('Runtime.evaluate', {'expression': '1', 'returnByValue': True}, session=sess)
        errors, dialogs, requests = [], [], []
        for m in b.events:
            meth, p = m.get('method'), m.get('params', {})
            if meth == 'Runtime.exceptionThrown':
                errors.append('exception: ' + json.dumps(p.get('exceptionDetails', {}).get('text')))
            elif meth == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
                errors.append('console: ' + json.dumps([a.get('value') for a in p.get('args', [])]))
            elif meth == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
                errors.append('log: ' + p['entry'].get('text', ''))
            elif meth == 'Page.javascriptDialogOpening':
                dialogs.append(p.get('message'))
            elif meth == 'Network.requestWillBeSent':
                u = p.get('request', {}).get('url', '')
                if u != url:
                    requests.append(u)
        out.update(errors=errors, dialogs=dialogs, requests=requests)
        print(json.dumps(out))
    finally:
        b.close()
        log.close()
        if os.environ.get('MNP_CHROMIUM_LOG'):
            shutil.copy(os.path.join(profile, 'chromium.log'), os.environ['MNP_CHROMIUM_LOG'])
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
