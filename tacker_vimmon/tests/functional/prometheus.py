#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""A Prometheus server of the test's own, scraping targets on loopback.

Debian's ``prometheus`` (installed by tools/install-deps.sh, its daemon
stopped) run with a configuration and a data directory of the test's own,
on a free loopback port, scraping every second.
"""

import os
import shutil
import subprocess

import fixtures
import requests
import yaml

from tacker_vimmon.tests.functional import base

BINARY = 'prometheus'
START_BOUND = 60


class Prometheus(fixtures.Fixture):
    """Prometheus scraping ``targets``: {job: ['127.0.0.1:port', ...]}."""

    def __init__(self, targets, interval='1s'):
        super().__init__()
        self.targets = targets
        self.interval = interval

    def _setUp(self):
        binary = shutil.which(BINARY)
        if binary is None:
            raise base.ServiceUnavailable(
                'no prometheus command: run tools/install-deps.sh')
        directory = self.useFixture(fixtures.TempDir()).path
        config = os.path.join(directory, 'prometheus.yml')
        with open(config, 'w') as f:
            yaml.safe_dump({
                'global': {'scrape_interval': self.interval,
                           'evaluation_interval': self.interval},
                'scrape_configs': [
                    {'job_name': job, 'static_configs': [{'targets': hosts}]}
                    for job, hosts in self.targets.items()]}, f)
        port = base.free_port()
        self.url = 'http://127.0.0.1:%d' % port
        self.log_path = os.path.join(directory, 'prometheus.log')
        self._log = open(self.log_path, 'w')
        self.addCleanup(self._log.close)
        self.process = subprocess.Popen(
            [binary, '--config.file', config,
             '--storage.tsdb.path', os.path.join(directory, 'data'),
             '--web.listen-address', '127.0.0.1:%d' % port],
            stdout=self._log, stderr=subprocess.STDOUT)
        self.addCleanup(self._stop)
        base.wait_for(self._ready, START_BOUND, interval=0.2,
                      message='Prometheus to be ready')

    def _ready(self):
        if self.process.poll() is not None:
            raise RuntimeError('Prometheus exited: %s' % self.log_tail())
        try:
            return requests.get(self.url + '/-/ready', timeout=2).ok
        except requests.ConnectionError:
            return False

    def _stop(self):
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, size=4000):
        with open(self.log_path) as f:
            return f.read()[-size:]

    def query(self, expression):
        """The instant vector of a PromQL expression: [(labels, value)]."""
        response = requests.get(self.url + '/api/v1/query',
                                params={'query': expression}, timeout=10)
        response.raise_for_status()
        return [(item['metric'], float(item['value'][1]))
                for item in response.json()['data']['result']]
