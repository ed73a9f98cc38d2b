package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// Vault is a running Vault dev server (in memory, unsealed, KV v2 at secret/).
type Vault struct {
	Proc      *Proc
	Addr      string // e.g. http://127.0.0.1:8200
	RootToken string
}

// StartVault runs the vault-dev binary built by `make tools` on listen
// (host:port, port 0 for a free one) with rootToken as its root token, and
// returns once it has printed its address.
func StartVault(ctx context.Context, listen, rootToken string, logTo io.Writer) (*Vault, error) {
	bin, err := Tool("vault-dev")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-listen", listen)
	cmd.Env = append(cmd.Environ(), "VAULT_DEV_ROOT_TOKEN_ID="+rootToken)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := start("vault", cmd, logTo)
	if err != nil {
		return nil, err
	}
	line, err := readJSONLine(ctx, p, stdout, 60*time.Second)
	if err != nil {
		_ = p.Stop()
		return nil, err
	}
	var ready struct{ Addr string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.Addr == "" {
		_ = p.Stop()
		return nil, fmt.Errorf("vault-dev printed %q, not its address", line)
	}
	return &Vault{Proc: p, Addr: ready.Addr, RootToken: rootToken}, nil
}

// IdPs is the devidp process serving every demo organization's Dex issuer.
type IdPs struct {
	Proc    *Proc
	Issuers map[string]string // organization name → issuer URL
}

// StartIdPs runs the devidp binary built by `make tools` with the JSON
// config at configPath on listen, and returns the issuer URL of each
// organization once all are serving.
func StartIdPs(ctx context.Context, configPath, listen string, logTo io.Writer) (*IdPs, error) {
	bin, err := Tool("devidp")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-config", configPath, "-listen", listen)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := start("devidp", cmd, logTo)
	if err != nil {
		return nil, err
	}
	line, err := readJSONLine(ctx, p, stdout, 60*time.Second)
	if err != nil {
		_ = p.Stop()
		return nil, err
	}
	var ready struct{ Issuers map[string]string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil || len(ready.Issuers) == 0 {
		_ = p.Stop()
		return nil, fmt.Errorf("devidp printed %q, not its issuers", line)
	}
	return &IdPs{Proc: p, Issuers: ready.Issuers}, nil
}

// Moto is a moto_server (AWS Secrets Manager, STS, KMS) on loopback.
type Moto struct {
	Proc     *Proc
	Endpoint string // e.g. http://127.0.0.1:5000
}

// StartMoto runs moto_server on 127.0.0.1:port (0 for a free port).
func StartMoto(ctx context.Context, port int, logTo io.Writer) (*Moto, error) {
	var err error
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, fmt.Errorf("python3 not found on PATH (moto needs it): %w", err)
	}
	if out, err := exec.CommandContext(ctx, python, "-c", "import moto.server").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("moto is not installed for python3 (pip install 'moto[server]'): %v: %s", err, out)
	}
	launcher, err := writeTemp("gatehouse-moto-*.py", motoLauncher)
	if err != nil {
		return nil, err
	}
	p, err := start("moto", exec.Command(python, launcher, "-H", "127.0.0.1", "-p", strconv.Itoa(port)), logTo)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	err = waitTCP(ctx, p, addr, 60*time.Second)
	_ = os.Remove(launcher) // read by python at start
	if err != nil {
		_ = p.Stop()
		return nil, err
	}
	return &Moto{Proc: p, Endpoint: "http://" + addr}, nil
}
