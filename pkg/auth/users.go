package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/mtauth/mtauth/pkg/password"
	"github.com/mtauth/mtauth/pkg/secret"
	"github.com/mtauth/mtauth/pkg/storage"
)

// Errors of user administration.
var (
	ErrUserExists = errors.New("auth: a user with that username exists")
	ErrNoSuchUser = errors.New("auth: no such user")
)

// NewUser describes a user to create. An empty WebServicesPassword means
// one is generated and returned once.
type NewUser struct {
	Username, DisplayName, Email string
	Status                       storage.UserStatus
	Superuser                    bool
	Permissions                  []string
	Password                     string
	WebServicesPassword          string
}

// AddUser creates a user. It returns the web services password when it
// generated one (it is stored only as a hash and cannot be shown again).
func (s *Service) AddUser(ctx context.Context, nu NewUser) (generated string, err error) {
	if nu.Username == "" || len(nu.Username) > MaxUsernameBytes {
		return "", fmt.Errorf("auth: a username is 1 to %d bytes", MaxUsernameBytes)
	}
	now := s.now()
	u := storage.User{
		ID: secret.New()[:16], Username: nu.Username, DisplayName: nu.DisplayName, Email: nu.Email,
		Status: nu.Status, Superuser: nu.Superuser, Permissions: nu.Permissions,
		CreatedAt: now, UpdatedAt: now,
	}
	if u.Status == "" {
		u.Status = storage.UserActive
	}
	if nu.Password != "" {
		u.PasswordHash = password.Hash(nu.Password)
	}
	generated, u.WebServicesPasswordHash = webServicesHash(nu.WebServicesPassword)
	switch err := s.store.CreateUser(ctx, u); {
	case errors.Is(err, storage.ErrAlreadyExists):
		return "", fmt.Errorf("%w: %s", ErrUserExists, nu.Username)
	case err != nil:
		return "", fmt.Errorf("create user %s: %w", nu.Username, err)
	}
	return generated, nil
}

// webServicesHash hashes a chosen web services password slowly, or
// generates one (returned) and hashes it fast, as its entropy allows.
func webServicesHash(chosen string) (generated, hash string) {
	if chosen != "" {
		return "", password.Hash(chosen)
	}
	return password.Generate()
}

// SetPassword replaces a user's sign-in password (checked by v1 and v2).
func (s *Service) SetPassword(ctx context.Context, username, pw string) error {
	if pw == "" {
		return errors.New("auth: the password must not be empty")
	}
	return s.updateUser(ctx, username, func(u *storage.User) { u.PasswordHash = password.Hash(pw) })
}

// SetWebServicesPassword replaces a user's web services password (checked
// by v3 and later); an empty pw generates one, which is returned.
func (s *Service) SetWebServicesPassword(ctx context.Context, username, pw string) (generated string, err error) {
	generated, hash := webServicesHash(pw)
	return generated, s.updateUser(ctx, username, func(u *storage.User) { u.WebServicesPasswordHash = hash })
}

// SetStatus enables or disables a user. Disabling ends the use of every
// session and token of the user at once: each use checks the status.
func (s *Service) SetStatus(ctx context.Context, username string, status storage.UserStatus) error {
	return s.updateUser(ctx, username, func(u *storage.User) { u.Status = status })
}

// EnsureSignInUser creates or updates username as an active user allowed
// to sign in to the Data API, with these passwords.
func (s *Service) EnsureSignInUser(ctx context.Context, username, signInPassword, webServicesPassword string) error {
	_, err := s.AddUser(ctx, NewUser{
		Username: username, DisplayName: username, Permissions: []string{PermissionSignInDataAPI},
		Password: signInPassword, WebServicesPassword: webServicesPassword,
	})
	if !errors.Is(err, ErrUserExists) {
		return err
	}
	return s.updateUser(ctx, username, func(u *storage.User) {
		u.Status = storage.UserActive
		if !slices.Contains(u.Permissions, PermissionSignInDataAPI) {
			u.Permissions = append(u.Permissions, PermissionSignInDataAPI)
		}
		u.PasswordHash = password.Hash(signInPassword)
		u.WebServicesPasswordHash = password.Hash(webServicesPassword)
	})
}

// ListUsers returns every user, ordered by username.
func (s *Service) ListUsers(ctx context.Context) ([]storage.User, error) {
	return s.store.ListUsers(ctx)
}

func (s *Service) updateUser(ctx context.Context, username string, change func(*storage.User)) error {
	u, err := s.store.GetUser(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNoSuchUser, username)
	} else if err != nil {
		return fmt.Errorf("read user %s: %w", username, err)
	}
	change(&u)
	u.UpdatedAt = s.now()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("update user %s: %w", username, err)
	}
	return nil
}
