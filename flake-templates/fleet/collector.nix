# Role collector: Prometheus scrapes every node's exporter over the mesh, Grafana shows it with a
# provisioned Prometheus data source and the node dashboard. Both listen ONLY on the mesh address
# and are opened only on the mesh interface: reach them over WireGuard, or with an SSH tunnel
# (ssh -p PORT -L 3000:MESH_IP:3000 USER@HOST). Grafana's secret key and admin password are agenix
# secrets generated at plan time (secrets/<host>/grafana-*.age, readable by the operators too).
{ config, fleet, fleetHost, ... }:
let
  me = fleet.hosts.${fleetHost};
  c = fleet.collector;
  nodes = builtins.filter (h: h.role == "node") (builtins.attrValues fleet.hosts);
  # peer-observer nodes also run infra-library's exporters (peer-observer-node.nix opens them on the mesh)
  peerObservers = builtins.filter (h: (h.profile or "base") == "peer-observer") nodes;
  po = fleet.exporters.peerObserver;
  job = name: port: extra: {
    job_name = name;
    static_configs = map (h: {
      targets = [ "${h.meshHost}:${toString port}" ];
      labels.host = h.name;
    }) peerObservers;
  } // extra;
  unit = "wireguard-${fleet.mesh.interface}.service";
  secret = name: {
    file = ../secrets + "/${fleetHost}/${name}.age";
    owner = "grafana";
  };
in
{
  age.secrets.grafana-secret-key = secret "grafana-secret-key";
  age.secrets.grafana-admin-password = secret "grafana-admin-password";

  services.prometheus = {
    enable = true;
    # meshHost: IPv6 in brackets (--web.listen-address=ADDRESS:PORT, targets HOST:PORT, URLs)
    listenAddress = me.meshHost;
    port = c.prometheusPort;
    scrapeConfigs = [
      {
        job_name = "node";
        static_configs = map (h: {
          targets = [ "${h.meshHost}:${toString fleet.exporters.node}" ];
          labels.host = h.name;
        }) nodes;
      }
    ]
    # the jobs infra-library's own webserver runs for its nodes (web.nix), over the mesh here
    ++ (
      if peerObservers == [ ] then
        [ ]
      else
        [
          (job "wireguard" po.wireguard { scrape_interval = "30s"; })
          (job "process-exporter" po.process { scrape_interval = "30s"; })
          (job "peer-observer-metrics" po.metrics {
            scrape_interval = "15s";
            scrape_timeout = "14s";
            fallback_scrape_protocol = "PrometheusText0.0.4";
          })
        ]
    );
  };

  services.grafana = {
    enable = true;
    settings = {
      server = {
        http_addr = me.meshIp;
        http_port = c.grafanaPort;
      };
      security = {
        secret_key = "$__file{${config.age.secrets.grafana-secret-key.path}}";
        admin_password = "$__file{${config.age.secrets.grafana-admin-password.path}}";
      };
      analytics.reporting_enabled = false;
    };
    provision = {
      enable = true;
      datasources.settings.datasources = [
        {
          name = "Prometheus";
          type = "prometheus";
          uid = "fleet-prometheus";
          url = "http://${me.meshHost}:${toString c.prometheusPort}";
          isDefault = true;
        }
      ];
      dashboards.settings.providers = [
        {
          name = "fleet";
          options.path = ./dashboards;
        }
      ];
    };
  };

  systemd.services.prometheus = {
    after = [ unit ];
    wants = [ unit ];
  };
  systemd.services.grafana = {
    after = [ unit ];
    wants = [ unit ];
  };
  networking.firewall.interfaces.${fleet.mesh.interface}.allowedTCPPorts = [
    c.prometheusPort
    c.grafanaPort
  ];
}
