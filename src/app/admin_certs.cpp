#include "app/admin_certs.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "mq/mq_service.hpp"

namespace sluice::app {

namespace {

struct CertArgs {
  std::string account, instance, name, ca_file, verification_file, sn, ca_sn, device_sn;
  int page_no = 1, page_size = 100;
};

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* status(bool active) { return active ? "active" : "inactive"; }

}  // namespace

void add_cert_commands(CLI::App& app, MqCommandHooks h) {
  auto a = std::make_shared<CertArgs>();
  using Err = std::optional<iam::Error>;
  auto run = [h, a](AccountAction f) { return in_account(h.resolve_account, &a->account, h.rc, std::move(f)); };
  auto* cert = app.add_subcommand("cert", "CA and device certificates of an instance (mutual TLS, issue 18)");
  cert->require_subcommand(1);
  cert->add_option("--account", a->account, "Account id or alias")->required();
  cert->add_option("--instance", a->instance, "Instance id")->required();
  auto sn_opt = [a](CLI::App* c) { c->add_option("--sn", a->sn, "CA serial number (hex)")->required(); };
  auto dev_opts = [a](CLI::App* c) {
    c->add_option("--ca-sn", a->ca_sn, "CA serial number (hex)")->required();
    c->add_option("--device-sn", a->device_sn, "Device certificate serial number (hex)")->required();
  };

  cert->add_subcommand("register-code", "Print the instance's registration code (GetRegisterCode)")
      ->callback(run([h, a](const std::string& acct) -> Err {
        auto r = h.mq().GetRegisterCode(acct, a->instance);
        if (!r) return r.error();
        std::cout << *r << "\n";
        return std::nullopt;
      }));
  auto* reg = cert->add_subcommand("ca-register", "Register a CA (RegisterCaCertificate); prints its serial number");
  reg->add_option("--name", a->name, "CaName")->required();
  reg->add_option("--ca", a->ca_file, "The CA certificate, PEM file")->required();
  reg->add_option("--verification", a->verification_file,
                  "The verification certificate, PEM file (CN = the registration code, signed by the CA's key)")
      ->required();
  reg->callback(run([h, a](const std::string& acct) -> Err {
    auto ca = read_file(a->ca_file), ver = read_file(a->verification_file);
    if (!ca || !ver) return iam::Error{"InvalidParameter", 400, "cannot read the certificate files"};
    auto r = h.mq().RegisterCaCertificate(acct, a->instance, a->name, *ca, *ver);
    if (!r) return r.error();
    std::cout << r->sn << "\n";
    return std::nullopt;
  }));
  cert->add_subcommand("ca-list", "List CA certificates: sn, name, status, valid until (ms)")
      ->callback(run([h, a](const std::string& acct) -> Err {
        auto r = h.mq().ListCaCertificate(acct, a->instance, 1, 100);
        if (!r) return r.error();
        for (const auto& c : r->items)
          std::cout << c.sn << "\t" << c.name << "\t" << status(c.active) << "\t" << c.valid_end_ms << "\n";
        return std::nullopt;
      }));
  auto* show = cert->add_subcommand("ca-show", "Print a CA certificate (PEM)");
  sn_opt(show);
  show->callback(run([h, a](const std::string& acct) -> Err {
    auto r = h.mq().GetCaCertificate(acct, a->instance, a->sn);
    if (!r) return r.error();
    std::cout << r->content;
    return std::nullopt;
  }));
  for (bool on : {true, false}) {
    auto* s = cert->add_subcommand(on ? "ca-activate" : "ca-deactivate",
                                   on ? "ActiveCaCertificate" : "InactivateCaCertificate (its devices are dropped)");
    sn_opt(s);
    s->callback(run([h, a, on](const std::string& acct) -> Err {
      if (auto r = h.mq().SetCaCertificateActive(acct, a->instance, a->sn, on); !r) return r.error();
      std::cout << a->sn << " " << status(on) << "\n";
      return std::nullopt;
    }));
  }
  auto* del = cert->add_subcommand("ca-delete", "DeleteCaCertificate (and its device certificates)");
  sn_opt(del);
  del->callback(run([h, a](const std::string& acct) -> Err {
    if (auto r = h.mq().DeleteCaCertificate(acct, a->instance, a->sn); !r) return r.error();
    std::cout << "deleted " << a->sn << "\n";
    return std::nullopt;
  }));
  auto* dl = cert->add_subcommand("device-list", "List device certificates: ca sn, sn, CN, status, last connection (ms)");
  dl->add_option("--ca-sn", a->ca_sn, "Only those under this CA");
  dl->callback(run([h, a](const std::string& acct) -> Err {
    auto r = h.mq().ListDeviceCertificate(acct, a->instance, a->ca_sn, 1, 100);
    if (!r) return r.error();
    for (const auto& d : r->items)
      std::cout << d.ca_sn << "\t" << d.device_sn << "\t" << d.name << "\t" << status(d.active) << "\t"
                << d.last_connected_ms << "\n";
    return std::nullopt;
  }));
  for (bool on : {true, false}) {
    auto* s = cert->add_subcommand(on ? "device-activate" : "device-deactivate",
                                   on ? "ActiveDeviceCertificate" : "InactivateDeviceCertificate (the device is dropped)");
    dev_opts(s);
    s->callback(run([h, a, on](const std::string& acct) -> Err {
      if (auto r = h.mq().SetDeviceCertificateActive(acct, a->instance, a->ca_sn, a->device_sn, on); !r)
        return r.error();
      std::cout << a->device_sn << " " << status(on) << "\n";
      return std::nullopt;
    }));
  }
  auto* dd = cert->add_subcommand("device-delete", "DeleteDeviceCertificate");
  dev_opts(dd);
  dd->callback(run([h, a](const std::string& acct) -> Err {
    if (auto r = h.mq().DeleteDeviceCertificate(acct, a->instance, a->ca_sn, a->device_sn); !r) return r.error();
    std::cout << "deleted " << a->device_sn << "\n";
    return std::nullopt;
  }));
}

}  // namespace sluice::app
